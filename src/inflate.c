/* inflate.c: (being written) */
