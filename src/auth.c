/* auth.c: (being written) */
