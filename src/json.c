/* json.c: (being written) */
