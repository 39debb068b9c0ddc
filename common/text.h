// Text for people (ckpt_info and the families' printers): bytes made
// printable, sizes in binary units.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ckpt {

// Printable ASCII as is, other bytes as \xNN.
std::string printable(std::string_view s);
// "512 B", "1.5 KiB", "3.0 GiB".
std::string human_bytes(uint64_t n);
// `s` as a JSON string literal, quotes included.
std::string json_string(std::string_view s);

}  // namespace ckpt
