/*
 * The host target's entry point: what a board's boot loader does, for a
 * process. It takes the device tree mirage-config made for the unikernel
 * (the program carries it, _build/device-tree.S), puts this run's command
 * line into /chosen/bootargs, quoted as the runtime's parser reads it
 * (Sources/Boot/Core/BootArguments.swift; the tool's BootArgumentQuoting
 * writes the same), and 32 fresh bytes from getrandom(2) into
 * /chosen/rng-seed, as QEMU's virt firmware and U-Boot do; then it calls
 * the glue's boot_main. The program's exit status is the job's.
 *
 * Arguments are boot-time keys, `--NAME=VALUE` or `--NAME` (true), as
 * `mirage-config run -- --NAME=VALUE` gives them, and the runtime's own
 * (`--mirage.timings=true`, a host driver's `--mirage.disk.NAME=FILE`).
 * Not part of `swift test`'s BootHostStubs: a test has its own main.
 */
#define _GNU_SOURCE
#include <libfdt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

extern const char mirage_device_tree[];
extern const void *boot_host_device_tree;
extern uint64_t boot_host_start_nanoseconds;
uint64_t boot_cntpct(void);
int boot_main(uintptr_t device_tree);

static int is_plain(unsigned char byte) {
    return (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9')
        || (byte != 0 && strchr("._,:/@+=%-", byte) != NULL);
}

/* Appends `--NAME=VALUE` to `line` at `*used`, VALUE quoted when it has to be. */
static void append_argument(char *line, size_t *used, const char *argument) {
    const char *equals = strchr(argument, '=');
    size_t name_length = equals ? (size_t)(equals - argument) : strlen(argument);
    const char *value = equals ? equals + 1 : "true";
    if (*used > 0) line[(*used)++] = ' ';
    memcpy(line + *used, argument, name_length);
    *used += name_length;
    line[(*used)++] = '=';
    int plain = *value != 0;
    for (const char *c = value; *c; c++) plain = plain && is_plain((unsigned char)*c);
    if (plain) {
        memcpy(line + *used, value, strlen(value));
        *used += strlen(value);
        return;
    }
    line[(*used)++] = '"';
    for (const unsigned char *c = (const unsigned char *)value; *c; c++) {
        if (*c == '\\' || *c == '"') {
            line[(*used)++] = '\\';
            line[(*used)++] = (char)*c;
        } else if (*c < 0x20 || *c == 0x7f) {
            *used += (size_t)sprintf(line + *used, "\\x%02x", *c);
        } else {
            line[(*used)++] = (char)*c;
        }
    }
    line[(*used)++] = '"';
}

int main(int argc, char **argv) {
    boot_host_start_nanoseconds = boot_cntpct();
    /* The console: whole lines, and every byte before the process ends. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    size_t line_size = 1;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == 0 || argv[i][2] == '=') {
            fprintf(stderr, "%s: argument '%s' is not --NAME=VALUE (a boot-time key)\n", argv[0], argv[i]);
            return 64;   /* EX_USAGE */
        }
        line_size += 4 * strlen(argv[i]) + 8;
    }
    char *line = malloc(line_size);
    size_t used = 0;
    for (int i = 1; i < argc; i++) append_argument(line, &used, argv[i]);
    line[used] = 0;

    unsigned char seed[32];
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
        perror("getrandom");
        return 70;
    }
    int tree_size = fdt_totalsize(mirage_device_tree) + (int)used + 256;
    void *tree = malloc((size_t)tree_size);
    int chosen;
    if (fdt_open_into(mirage_device_tree, tree, tree_size) != 0
        || (chosen = fdt_path_offset(tree, "/chosen")) < 0
        || (used > 0 && fdt_setprop_string(tree, chosen, "bootargs", line) != 0)
        || fdt_setprop(tree, chosen, "rng-seed", seed, sizeof seed) != 0) {
        fprintf(stderr, "%s: the device tree it carries is damaged\n", argv[0]);
        return 70;
    }
    explicit_bzero(seed, sizeof seed);
    free(line);
    boot_host_device_tree = tree;
    int status = boot_main((uintptr_t)tree);
    fflush(stdout);
    return status;
}
