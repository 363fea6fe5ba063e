// sample_keys.h — fixed keys for the config and UAPI tests, generated with `wg genkey`,
// `wg pubkey` and `wg genpsk`, so expected texts can be written out literally; key() and
// hex() give them as typed keys and in the UAPI's form.
#pragma once

#include "loader/types/keys.h"

#include <stdexcept>
#include <string>

namespace xwg::sample_keys {

inline const char *PRIV1 = "YCG7ogZrwLjlATlPJZ20838exKhPhZ1XmbQRL2nj63I=";
inline const char *PUB1 = "/XkYGp4BNRI6JlrU3WwbnYDRF+b05qWIF6gU09QyLxw="; // PRIV1's public key
inline const char *PUB2 = "Af0+R0ftyWdNHeOFDfT/l41avoi1DAXiBKce+5heGVk=";
inline const char *PUB3 = "k8IZtg5xXIJ8bvXlscPV0PnMk1MEYv5x0vq9PTKYvDY=";
inline const char *PUB4 = "aejmRt+9pcXapQP2slm1uvNL5c/Z1Vw/9BSL4N/eMXg="; // in no sample config
inline const char *PSK = "D6+eFOvWRbDKU8dU45K2vCFEx56I4gJdK6PJVio/2uo=";

// One of the keys above, decoded (they are all valid base64 keys).
template <Key K = PublicKey> K key(const char *b64)
{
	K k;
	if (from_base64(b64, k) != KeyParseError::ok)
		throw std::invalid_argument(b64);
	return k;
}

// One of the keys above as the UAPI writes it.
inline std::string hex(const char *b64)
{
	return to_hex(key(b64));
}

} // namespace xwg::sample_keys
