# Installing the engine as a CMake package:
#   cmake --install build --prefix P
#   find_package(ipfs_accelerate CONFIG REQUIRED)   # with CMAKE_PREFIX_PATH=P
#   target_link_libraries(app PRIVATE ipfs_accelerate::ia)
#
# The package config must find the same third-party packages the library links
# publicly. That list is not written down here: it is derived, when the top-level
# directory has been fully processed, from ia's link libraries. Each imported target
# `Ns::name` is traced back to the find call that created it (pkg_check_modules sets
# <PREFIX>_MODULE_NAME; find_package sets <Pkg>_DIR or <Pkg>_FOUND), so adding a
# dependency to CMakeLists.txt needs no edit here.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

install(TARGETS ia EXPORT ipfs_accelerateTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS ipfs-accelerate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Every library header (the layers under src/, not the CLI), keeping the
# "core/tensor.h" style include paths the library itself uses.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/src/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ipfs_accelerate
  FILES_MATCHING PATTERN "*.h"
  PATTERN "cli" EXCLUDE)
install(EXPORT ipfs_accelerateTargets NAMESPACE ipfs_accelerate::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ipfs_accelerate)

# The find call (as text for the package config) that defines imported target `tgt`.
function(_ia_dependency_call tgt out)
  set(${out} "" PARENT_SCOPE)
  if(NOT tgt MATCHES "^([A-Za-z0-9_.+-]+)::([A-Za-z0-9_.+-]+)$")
    return()  # a plain library name or flag: exported verbatim, nothing to find
  endif()
  set(ns ${CMAKE_MATCH_1})
  set(name ${CMAKE_MATCH_2})
  if(ns STREQUAL "PkgConfig")
    if(NOT DEFINED ${name}_MODULE_NAME)
      message(FATAL_ERROR "ia links ${tgt} but ${name}_MODULE_NAME is unknown: create it with pkg_check_modules(${name} ... IMPORTED_TARGET ...)")
    endif()
    set(${out} "if(NOT TARGET ${tgt})\n  find_dependency(PkgConfig)\n  pkg_check_modules(${name} REQUIRED QUIET IMPORTED_TARGET ${${name}_MODULE_NAME})\nendif()" PARENT_SCOPE)
    return()
  endif()
  string(TOLOWER ${ns} ns_lower)
  foreach(pkg ${ns} ${ns_lower} ${name})
    if(${pkg}_DIR OR ${pkg}_FOUND)
      set(${out} "find_dependency(${pkg})" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "ia links ${tgt} but no find_package(<${ns}|${ns_lower}|${name}>) was found to repeat in the package config")
endfunction()

function(_ia_write_package_config)
  # A static library's consumers link its private dependencies too: take both lists.
  get_target_property(private_libs ia LINK_LIBRARIES)
  get_target_property(public_libs ia INTERFACE_LINK_LIBRARIES)
  set(calls "")
  foreach(lib IN LISTS private_libs public_libs)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" lib "${lib}")
    _ia_dependency_call("${lib}" call)
    if(call AND NOT call IN_LIST calls)
      list(APPEND calls "${call}")
    endif()
  endforeach()
  list(JOIN calls "\n" IA_FIND_DEPENDENCIES)
  set(dir ${CMAKE_BINARY_DIR}/ipfs_accelerate_package)
  configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/ipfs_accelerateConfig.cmake.in
    ${dir}/ipfs_accelerateConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ipfs_accelerate)
  write_basic_package_version_file(${dir}/ipfs_accelerateConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES ${dir}/ipfs_accelerateConfig.cmake ${dir}/ipfs_accelerateConfigVersion.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ipfs_accelerate)
endfunction()

# Run once the whole top-level CMakeLists.txt has been read, so dependencies added
# after this include are seen too.
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _ia_write_package_config)

# Sanitizer builds: programs linking the installed library need the runtimes too.
if(IA_SANITIZE)
  target_link_options(ia INTERFACE $<INSTALL_INTERFACE:-fsanitize=address,undefined>)
endif()
