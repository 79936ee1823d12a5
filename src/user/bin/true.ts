/** true: do nothing, successfully (exit status 0). Entry point: default `main`. */
export default async function main(): Promise<number> {
  return 0;
}
