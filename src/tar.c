/* tar.c: (being written) */
