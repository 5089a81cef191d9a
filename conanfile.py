"""Conan 2 recipe for librats (header-only): `conan create .` from the repository root.

Packages the same layout as the CMake install (include/librats/...). CMakeDeps consumers use
find_package(librats CONFIG) and librats::librats, as with the installed CMake package;
PkgConfigDeps generates librats.pc. Not tested against a Conan remote here.
"""
import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class LibratsConan(ConanFile):
    name = "librats"
    description = "Header-only C++17 peer-to-peer networking on standalone asio"
    license = "MIT"
    topics = ("p2p", "networking", "asio", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "include/*"
    no_copy_source = True

    def set_version(self):
        # The single source of the version: include/librats/version.hpp.
        text = load(self, os.path.join(self.recipe_folder, "include", "librats", "version.hpp"))
        parts = []
        for field in ("MAJOR", "MINOR", "PATCH"):
            line = next(l for l in text.splitlines() if l.startswith(f"#define LIBRATS_VERSION_{field} "))
            parts.append(line.split()[-1])
        self.version = ".".join(parts)

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        self.requires("asio/[>=1.22]")
        self.requires("nlohmann_json/[>=3.11]")
        self.requires("botan/[>=2.19 <3]")  # the Noise primitives (include/librats/noise/botan_suite.hpp)

    def package_id(self):
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 17)

    def package(self):
        copy(self, "*.hpp", src=os.path.join(self.source_folder, "include"),
             dst=os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.defines = ["ASIO_STANDALONE", "ASIO_NO_DEPRECATED"]
        self.cpp_info.set_property("cmake_file_name", "librats")
        self.cpp_info.set_property("cmake_target_name", "librats::librats")
        self.cpp_info.set_property("pkg_config_name", "librats")
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
