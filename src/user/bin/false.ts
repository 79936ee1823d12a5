/** false: do nothing, unsuccessfully (exit status 1). Entry point: default `main`. */
export default async function main(): Promise<number> {
  return 1;
}
