// keys_fuzz.cpp — libFuzzer target for the one key codec (loader/types/keys.h): from_base64
// and from_hex on any text. Properties: a decoder either accepts and then the text is the
// key's one canonical spelling (base64 exactly as to_base64 prints it; hex as to_hex
// prints it, up to case), or refuses and leaves the key untouched; base64_decoded_size
// agrees with from_base64 about a 44-character key.
#include "fuzz_util.h"

#include <algorithm>
#include <cstdint>
#include <string>

using namespace xwg;

namespace {

std::string lower(std::string_view s)
{
	std::string out(s);
	std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
		return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	});
	return out;
}

// A key that no decoder produces by accident: what "untouched" is checked against.
PublicKey sentinel()
{
	PublicKey k;
	k.bytes.fill(0xa5);
	return k;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);

	PublicKey b = sentinel();
	KeyParseError rb = from_base64(text, b);
	if (rb == KeyParseError::ok) {
		FUZZ_CHECK(to_base64(b) == text, "an accepted base64 key is canonical");
		auto n = base64_decoded_size(text);
		FUZZ_CHECK(n && *n == KEY_LEN, "base64_decoded_size agrees with from_base64");
	} else {
		FUZZ_CHECK(b == sentinel(), "a refused base64 key leaves the key untouched");
		FUZZ_CHECK(rb == KeyParseError::wrong_length || rb == KeyParseError::bad_base64,
			   "base64 errors are base64 errors");
		FUZZ_CHECK((rb == KeyParseError::wrong_length) == (size != KEY_BASE64_LEN),
			   "wrong_length means exactly: not 44 characters");
	}

	PresharedKey h;
	h.data()[0] = 0x5a;
	KeyParseError rh = from_hex(text, h);
	if (rh == KeyParseError::ok) {
		FUZZ_CHECK(to_hex(h) == lower(text), "an accepted hex key is 64 hex digits");
	} else {
		FUZZ_CHECK(rh == KeyParseError::bad_hex, "hex errors are bad_hex");
		FUZZ_CHECK(h.data()[0] == 0x5a &&
				   std::all_of(h.data() + 1, h.data() + h.size(),
					       [](std::uint8_t c) { return c == 0; }),
			   "a refused hex key leaves the key untouched");
	}

	// Any text that decodes to 32 bytes is a key in base64 too, once it is 44 long.
	if (auto n = base64_decoded_size(text); n && *n == KEY_LEN && size == KEY_BASE64_LEN)
		FUZZ_CHECK(rb == KeyParseError::ok,
			   "a 44-character base64 key of 32 bytes decodes");
	return 0;
}
