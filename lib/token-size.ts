/**
 * The longest token fedbroker reads, external or its own (16 KiB, counted in UTF-16 code units as
 * JavaScript measures strings): anything longer is refused before it is split or decoded. Far above
 * real tokens (GitHub Actions ID tokens are ~1 KB), and far below what would make a refusal costly.
 */
export const MAX_TOKEN_BYTES = 16 * 1024;
