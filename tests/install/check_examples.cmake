# Installs the engine into a fresh prefix and uses it the way a host
# would: checks what was installed (and that private dependencies stay
# private), builds both examples with find_package and one with
# pkg-config, and runs them on their own private databases.
#
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DDATA_DIR=...
#         -P check_examples.cmake

foreach(var BUILD_DIR SOURCE_DIR WORK_DIR DATA_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "check_examples: ${var} is not set")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# -- what a host gets -----------------------------------------------------------
file(GLOB_RECURSE config_file ${prefix}/*/CatchupEngineConfig.cmake)
file(GLOB_RECURSE version_file ${prefix}/*/CatchupEngineConfigVersion.cmake)
file(GLOB_RECURSE targets_file ${prefix}/*/CatchupEngineTargets.cmake)
file(GLOB_RECURSE pc_file ${prefix}/*/pkgconfig/catchup-engine.pc)
file(GLOB_RECURSE library ${prefix}/*/libcatchup-engine.so)
foreach(f config_file version_file targets_file pc_file library)
  if(NOT ${f})
    message(FATAL_ERROR "check_examples: no ${f} installed under ${prefix}")
  endif()
endforeach()
foreach(h catchup.hpp engine.hpp error.hpp types.hpp version.hpp export.hpp
          node.hpp admin.hpp server.hpp)
  if(NOT EXISTS ${prefix}/include/catchup/${h})
    message(FATAL_ERROR "check_examples: include/catchup/${h} not installed")
  endif()
endforeach()
# Private dependencies do not leak: not into the exported interface, not
# into pkg-config flags, not into the library's exported symbols.
# Every targets file (the per-configuration ones too); only INTERFACE_
# properties reach a host's compile and link lines.
get_filename_component(package_dir ${targets_file} DIRECTORY)
file(GLOB all_targets_files ${package_dir}/CatchupEngine*Targets*.cmake)
foreach(f ${all_targets_files})
  file(STRINGS ${f} interface_lines REGEX "INTERFACE_")
  foreach(private pqxx jemalloc spdlog ical httplib)
    if(interface_lines MATCHES "${private}")
      message(FATAL_ERROR "check_examples: ${private} in the interface: ${f}")
    endif()
  endforeach()
endforeach()
file(STRINGS ${targets_file} engine_interface REGEX "INTERFACE_")
if(engine_interface MATCHES "CAF::")
  message(FATAL_ERROR "check_examples: Catchup::engine's interface names CAF")
endif()
get_filename_component(pc_dir ${pc_file} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
run(pkg-config --cflags --libs catchup-engine)
set(pc_flags "${run_output}")
if(pc_flags MATCHES "pqxx|jemalloc|spdlog|caf")
  message(FATAL_ERROR "check_examples: pkg-config leaks: ${pc_flags}")
endif()
run(nm -D --defined-only ${library})
string(REGEX MATCHALL "[^\n]*(pqxx|spdlog|icalcomponent|httplib)[^\n]*"
       leaked "${run_output}")
if(leaked)
  list(LENGTH leaked leaked_n)
  list(GET leaked 0 first)
  message(FATAL_ERROR "check_examples: the library exports ${leaked_n} "
                      "private symbols, e.g. ${first}")
endif()

# -- both examples through find_package -----------------------------------------
set(launcher)
find_program(ccache ccache)
if(ccache)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${ccache})
endif()
set(vcard ${DATA_DIR}/real/vcard/ezvcard_gmail-list.vcf)
foreach(example embedded actor-host)
  set(build ${WORK_DIR}/${example})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/${example} -B ${build}
      -G Ninja -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release
      ${launcher})
  run(${CMAKE_COMMAND} --build ${build})
  run(${build}/${example} ${vcard} ${WORK_DIR}/${example}-pg)
  message(STATUS "${example}:\n${run_output}")
  if(NOT run_output MATCHES "generated [1-9]")
    message(FATAL_ERROR "check_examples: ${example} generated nothing")
  endif()
endforeach()

# A version the package does not satisfy is refused (SameMajorVersion).
file(WRITE ${WORK_DIR}/too-new/CMakeLists.txt
  "cmake_minimum_required(VERSION 3.18)\nproject(too_new LANGUAGES CXX)\n"
  "find_package(CatchupEngine 99 REQUIRED)\n")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${WORK_DIR}/too-new
                -B ${WORK_DIR}/too-new/build -DCMAKE_PREFIX_PATH=${prefix}
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(rc EQUAL 0)
  message(FATAL_ERROR "check_examples: find_package(CatchupEngine 99) "
                      "accepted")
endif()

# -- the facade through pkg-config alone ----------------------------------------
string(STRIP "${pc_flags}" pc_flags)
separate_arguments(pc_args UNIX_COMMAND "${pc_flags}")
get_filename_component(libdir ${library} DIRECTORY)
run(c++ -std=c++17 ${SOURCE_DIR}/examples/embedded/main.cpp ${pc_args}
    -Wl,-rpath,${libdir} -o ${WORK_DIR}/embedded-pc)
run(${WORK_DIR}/embedded-pc ${vcard} ${WORK_DIR}/embedded-pg)
if(NOT run_output MATCHES "generated [1-9]")
  message(FATAL_ERROR "check_examples: the pkg-config build generated nothing")
endif()
message(STATUS "examples built and ran against ${prefix}")
