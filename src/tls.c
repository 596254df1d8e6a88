/* tls.c: (being written) */
