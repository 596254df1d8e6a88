/* net.c: (being written) */
