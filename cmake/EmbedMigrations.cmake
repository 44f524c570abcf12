# Writes a C++ source file that holds every migration's SQL text, so the
# binary needs no files at run time. Run as a script:
#   cmake -DOUTPUT=<file.cpp> -DSOURCES="<a.sql;b.sql>" -P EmbedMigrations.cmake
# Each file must be named NNNN_description.sql; NNNN is the schema version.

set(body "")
foreach(sql IN LISTS SOURCES)
  get_filename_component(name "${sql}" NAME_WE)
  if(NOT name MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)$")
    message(FATAL_ERROR "migration file ${sql}: name must be NNNN_words.sql")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  set(label "${CMAKE_MATCH_2}")
  file(READ "${sql}" text)
  if(text MATCHES "\\)catchup_sql\"")
    message(FATAL_ERROR "migration file ${sql} contains the raw-string "
                        "delimiter )catchup_sql\"")
  endif()
  string(APPEND body "  {${version}, \"${label}\", R\"catchup_sql(${text})catchup_sql\"},\n")
endforeach()

set(content "// Generated from storage/migrations/*.sql by EmbedMigrations.cmake.
#include \"storage/migrations.hpp\"

namespace catchup::storage {

const std::vector<migration>& built_in_migrations() {
  static const std::vector<migration> all = {
${body}  };
  return all;
}

} // namespace catchup::storage
")
# Only touch the output when it changes, so nothing rebuilds needlessly.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${content}")
