/* The C library as the reference for socklab's inet tests. Reads lines
 * "OP HEX" from stdin (HEX = the input's bytes) and answers one line each:
 *   aton HEX  -> "1 xxxxxxxx" (the address bytes) or "0"   (inet_aton)
 *   addr HEX  -> "xxxxxxxx" (network-order bytes of inet_addr's result)
 *   pton4 HEX -> "1 bytes" or "0"                           (inet_pton AF_INET)
 *   pton6 HEX -> "1 bytes" or "0"                           (inet_pton AF_INET6)
 *   ntop6 HEX -> the text inet_ntop(AF_INET6) makes of 16 bytes */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int unhex(const char *hex, unsigned char *out, size_t max) {
  size_t n = 0;
  while (hex[0] && hex[1] && n < max) {
    unsigned v;
    if (sscanf(hex, "%2x", &v) != 1) break;
    out[n++] = (unsigned char)v;
    hex += 2;
  }
  out[n] = 0;
  return (int)n;
}

static void put_hex(const unsigned char *b, int n) {
  for (int i = 0; i < n; i++) printf("%02x", b[i]);
}

int main(void) {
  static char line[1 << 16];
  static unsigned char in[1 << 15];
  while (fgets(line, sizeof line, stdin)) {
    char op[8];
    char *sp = strchr(line, ' ');
    if (!sp || sp - line >= (long)sizeof op) { puts("?"); continue; }
    memcpy(op, line, sp - line);
    op[sp - line] = 0;
    char *nl = strchr(sp + 1, '\n');
    if (nl) *nl = 0;
    int n = unhex(sp + 1, in, sizeof in - 1);
    if (strcmp(op, "aton") == 0) {
      struct in_addr a;
      if (inet_aton((char *)in, &a)) { printf("1 "); put_hex((unsigned char *)&a, 4); puts(""); }
      else puts("0");
    } else if (strcmp(op, "addr") == 0) {
      in_addr_t v = inet_addr((char *)in);
      put_hex((unsigned char *)&v, 4);
      puts("");
    } else if (strcmp(op, "pton4") == 0 || strcmp(op, "pton6") == 0) {
      unsigned char b[16];
      int six = op[4] == '6';
      if (inet_pton(six ? AF_INET6 : AF_INET, (char *)in, b) == 1) {
        printf("1 "); put_hex(b, six ? 16 : 4); puts("");
      } else puts("0");
    } else if (strcmp(op, "ntop6") == 0 && n == 16) {
      char text[INET6_ADDRSTRLEN];
      puts(inet_ntop(AF_INET6, in, text, sizeof text));
    } else {
      puts("?");
    }
  }
  return 0;
}
