// kernel/cpu_list.h — the kernel's CPU list format ("0-3,5,7-8", as in
// /sys/devices/system/cpu/online), for choosing the CPUs the data plane decrypts on.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace xwg {

// The CPU ids in @text, ascending and without repeats; nullopt when malformed.
std::optional<std::vector<unsigned>> cpu_list_parse(std::string_view text);

// The online CPUs (from /sys/devices/system/cpu/online); empty when unreadable.
std::vector<unsigned> online_cpus();

} // namespace xwg
