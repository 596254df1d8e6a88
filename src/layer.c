/* layer.c: (being written) */
