// cli/keys.cpp — key generation commands. Output is the base64 key and a newline on stdout;
// errors are one line on stderr and exit status 1, like wg.
#include "loader/cli/keys.h"

#include "loader/types/keys.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace xwg {

namespace {

// A private key written to a file others can read is a mistake worth a warning (wg does
// the same); the key is still written.
void warn_if_world_readable()
{
	struct stat st;
	if (fstat(fileno(stdout), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
		std::fputs("Warning: writing to world accessible file.\n"
			   "Consider setting the umask to 077 and trying again.\n",
			   stderr);
}

int print_key(const std::string &b64)
{
	if (std::printf("%s\n", b64.c_str()) < 0 || std::fflush(stdout) != 0) {
		std::fprintf(stderr, "xwg: cannot write key: %s\n", std::strerror(errno));
		return 1;
	}
	return 0;
}

int genkey()
{
	warn_if_world_readable();
	return print_key(to_base64(generate_private_key()));
}

int genpsk()
{
	warn_if_world_readable();
	return print_key(to_base64(generate_preshared_key()));
}

// Reads one base64 private key from stdin: 44 characters, then only whitespace.
int pubkey()
{
	char text[KEY_BASE64_LEN + 1] = {};
	std::size_t n = std::fread(text, 1, KEY_BASE64_LEN, stdin);
	int rc = 1;
	PrivateKey key;
	for (int ch; n == KEY_BASE64_LEN && (ch = std::fgetc(stdin)) != EOF;) {
		if (!std::isspace(ch)) {
			std::fputs("xwg pubkey: trailing characters found after the key\n", stderr);
			goto out;
		}
	}
	if (n != KEY_BASE64_LEN) {
		std::fputs("xwg pubkey: key is not the correct length or format: expected 44 "
			   "base64 characters on stdin\n",
			   stderr);
		goto out;
	}
	if (auto err = from_base64(std::string_view(text, KEY_BASE64_LEN), key);
	    err != KeyParseError::ok) {
		std::fprintf(stderr, "xwg pubkey: key is not the correct length or format: %s\n",
			     to_string(err));
		goto out;
	}
	rc = print_key(to_base64(public_key_of(key)));
out:
	sodium_memzero(text, sizeof(text));
	return rc;
}

// CLI11 turns a RuntimeError into its exit code without printing anything more.
void finish(int rc)
{
	if (rc != 0)
		throw CLI::RuntimeError(rc);
}

} // namespace

void add_key_commands(CLI::App &app)
{
	app.add_subcommand("genkey", "Generate a new private key and write it to stdout")
		->callback([] { finish(genkey()); });
	app.add_subcommand("genpsk", "Generate a new preshared key and write it to stdout")
		->callback([] { finish(genpsk()); });
	app.add_subcommand("pubkey",
			   "Read a private key from stdin and write its public key to stdout")
		->callback([] { finish(pubkey()); });
}

} // namespace xwg
