// kernel/drop_names.cpp — printable names of the data plane's drop reasons (include/xwg/
// drop_reasons.h). A switch without default: -Wswitch turns a new reason without a
// name into a build error.
#include "xwg/drop_reasons.h"

extern "C" const char *xwg_drop_reason_name(enum xwg_drop_reason reason)
{
	switch (reason) {
	case XWG_DROP_BAD_LENGTH: return "bad_length";
	case XWG_DROP_BAD_TYPE: return "bad_type";
	case XWG_DROP_UNKNOWN_INDEX: return "unknown_receiver_index";
	case XWG_DROP_KEYPAIR_EXPIRED: return "keypair_expired";
	case XWG_DROP_COUNTER_LIMIT: return "counter_limit";
	case XWG_DROP_REPLAYED: return "replayed";
	case XWG_DROP_AUTH_FAILED: return "auth_failed";
	case XWG_DROP_INNER_NOT_IP: return "inner_not_ip";
	case XWG_DROP_INNER_LENGTH: return "inner_length";
	case XWG_DROP_INNER_SRC_NOT_ALLOWED: return "inner_src_not_allowed";
	case XWG_DROP_KEEPALIVE: return "keepalive";
	case XWG_DROP_FRAME_TOO_BIG: return "frame_too_big";
	case XWG_DROP_TX_NOT_IP: return "tx_not_ip";
	case XWG_DROP_NO_PEER: return "no_peer";
	case XWG_DROP_STAGED: return "staged";
	case XWG_DROP_STAGE_FULL: return "stage_full";
	case XWG_DROP_NO_ENDPOINT: return "no_endpoint";
	case XWG_DROP_NO_ROUTE: return "no_route";
	case XWG_DROP_KEYPAIR_EXHAUSTED: return "keypair_exhausted";
	case XWG_DROP_HEADROOM: return "headroom";
	case XWG_DROP_RX_REDIRECT_FAILED: return "rx_redirect_failed";
	case XWG_DROP_CONTROL_INVALID: return "control_invalid";
	case XWG_DROP_CONTROL_RATELIMITED: return "control_ratelimited";
	case XWG_DROP_TX_TO_DAEMON_OVERSIZE: return "tx_to_daemon_oversize";
	case XWG_DROP_FRAGMENT_RATELIMITED: return "fragment_ratelimited";
	case XWG_DROP_FRAGMENT_NOT_UNDERLAY: return "fragment_not_underlay";
	case XWG_DROP_KEYPAIR_RETIRED: return "keypair_retired";
	case XWG_DROP_TX_NOT_UNDERLAY: return "tx_not_underlay";
	case XWG_DROP_REASON_MAX: break;
	}
	return "unknown";
}
