// arsync's version, in one place: --version, the --json document and the man page read it.
export const VERSION = '0.1.0';
