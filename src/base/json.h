// The one way the project includes RapidJSON: assertions abort instead of
// being compiled out (no undefined behaviour on a missed type check).
#pragma once

#include <cstdlib>

#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x) \
  do {                      \
    if (!(x)) std::abort(); \
  } while (0)
#endif
#define RAPIDJSON_HAS_STDSTRING 1

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/internal/dtoa.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
