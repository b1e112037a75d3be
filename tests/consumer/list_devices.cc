// Reads a spec file (YAML or JSON, by its extension) through the installed
// library and prints its kind and each device's qualified name, one a line.
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "spec/codec/spec_codec.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: list_devices SPEC_FILE\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto format = cdi::codec::spec_format_for(argv[1]);
  if (!in || !format) {
    std::cerr << argv[1] << ": not a readable .yaml or .json file\n";
    return 1;
  }
  cdi::Result<cdi::Spec> spec = cdi::codec::parse_spec(bytes, *format);
  if (!spec.ok()) {
    std::cerr << argv[1] << ": " << spec.error().to_string() << "\n";
    return 1;
  }
  std::cout << "kind " << spec->kind << "\n";
  for (const auto& device : spec->devices) std::cout << spec->kind << "=" << device.name << "\n";
  return 0;
}
