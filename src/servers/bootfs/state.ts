/**
 * bootfs state: the listing of the boot image (inode n+2 is the n-th file by name).
 */
export interface BootfsState {
  files: Array<{ name: string; size: number; mtime: number }>;
  listedAt: number;
  reads: number;
}
