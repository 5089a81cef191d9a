// For PersistenceFiles.SigkillDuringSavesLeavesAWholeFile: saves peers.json in a loop, each
// version self-consistent (generation g has g % 200 + 1 peers, all with last_seen = g), from
// generation `first` on, until killed.
//
//   librats_persistence_writer <directory> <first>

#include <librats/persistence/data_directory.hpp>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: librats_persistence_writer <directory> <first generation>\n";
        return 2;
    }
    const librats::persistence::data_directory dir(argv[1]);
    for (std::int64_t generation = std::atoll(argv[2]);; ++generation) {
        std::vector<librats::persistence::historical_peer> peers(static_cast<std::size_t>(generation % 200 + 1));
        for (std::size_t i = 0; i < peers.size(); ++i)
            peers[i] = {"10.0.0." + std::to_string(i % 250), static_cast<std::uint16_t>(1000 + i), "peer", generation, 0};
        if (const auto ec = dir.save_peers(peers)) {
            std::cerr << "save failed: " << ec.message() << '\n';
            return 1;
        }
    }
}
