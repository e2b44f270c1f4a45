// Data `mirage-config build` embeds in the image (the kv-crunch store's
// archives): a table of {name, start, end} words ending with a zero name,
// defined by the generated _build/embedded.S. Weak: an image that embeds
// nothing has no table, and gets an empty one.

extern const unsigned long mirage_embedded_table[] __attribute__((weak));

static const unsigned long no_entries[3] = {0, 0, 0};

const unsigned long *boot_embedded_table(void) {
    return mirage_embedded_table ? mirage_embedded_table : no_entries;
}
