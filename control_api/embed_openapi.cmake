# cmake -DINPUT=openapi.json -DOUTPUT=openapi_document.cpp -P embed_openapi.cmake
# Writes openapi_document() returning the file as a raw string literal. The JSON is parsed
# first (string(JSON)), so a broken document fails the build rather than the first client.
file(READ ${INPUT} content)
string(JSON title ERROR_VARIABLE json_error GET "${content}" info title)
if(json_error)
  message(FATAL_ERROR "${INPUT} is not a valid OpenAPI document: ${json_error}")
endif()
set(delimiter sipfleet_openapi)
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string's closing delimiter )${delimiter}\"")
endif()
file(WRITE ${OUTPUT}.tmp
  "// Generated from control_api/openapi.json by control_api/embed_openapi.cmake: do not edit.\n"
  "#include \"control_api/router.hpp\"\n\n"
  "namespace sipfleet::control_api {\n\n"
  "std::string_view openapi_document() {\n"
  "  static constexpr std::string_view document = R\"${delimiter}(")
file(APPEND ${OUTPUT}.tmp "${content}")
file(APPEND ${OUTPUT}.tmp ")${delimiter}\";\n  return document;\n}\n\n}  // namespace sipfleet::control_api\n")
# Only a changed document touches the output, so that nothing recompiles needlessly.
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
