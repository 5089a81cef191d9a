# vcpkg overlay port for librats, a header-only library, built from this repository with its own
# CMake install (top-level CMakeLists.txt, LIBRATS_INSTALL): headers go to include/librats/, the
# CMake package to share/cmake/librats (moved to share/librats by the fixup below), librats.pc to
# share/pkgconfig. Not tested against a vcpkg registry here; keep it in step with that layout.
# For a registry port, replace SOURCE_PATH by vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH ...).
set(VCPKG_BUILD_TYPE release)  # header-only: nothing differs between debug and release
set(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../..")

# The CMake build finds Botan 2 with pkg_check_modules(botan-2).
vcpkg_find_acquire_program(PKGCONFIG)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DLIBRATS_BUILD_TESTS=OFF
        -DLIBRATS_BUILD_BENCH=OFF
        -DLIBRATS_BUILD_EXAMPLES=OFF
        -DLIBRATS_INSTALL=ON
        "-DPKG_CONFIG_EXECUTABLE=${PKGCONFIG}"
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/librats)
vcpkg_fixup_pkgconfig()

if(EXISTS "${SOURCE_PATH}/LICENSE")
    vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
else()
    # No LICENSE file in the repository yet; the project declares MIT (meson.build, vcpkg.json).
    file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "librats is distributed under the MIT license.\n")
endif()
