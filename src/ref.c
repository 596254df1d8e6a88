/* ref.c: (being written) */
