// sample_keys.h — fixed keys for the config and UAPI tests, generated with `wg genkey`,
// `wg pubkey` and `wg genpsk`, so expected texts can be written out literally.
#pragma once

namespace xwg::sample_keys {

inline const char *PRIV1 = "YCG7ogZrwLjlATlPJZ20838exKhPhZ1XmbQRL2nj63I=";
inline const char *PUB1 = "/XkYGp4BNRI6JlrU3WwbnYDRF+b05qWIF6gU09QyLxw="; // PRIV1's public key
inline const char *PUB2 = "Af0+R0ftyWdNHeOFDfT/l41avoi1DAXiBKce+5heGVk=";
inline const char *PUB3 = "k8IZtg5xXIJ8bvXlscPV0PnMk1MEYv5x0vq9PTKYvDY=";
inline const char *PUB4 = "aejmRt+9pcXapQP2slm1uvNL5c/Z1Vw/9BSL4N/eMXg="; // in no sample config
inline const char *PSK = "D6+eFOvWRbDKU8dU45K2vCFEx56I4gJdK6PJVio/2uo=";

} // namespace xwg::sample_keys
