// The oldest Node.js the product runs on (package.json's engines says the same; a test keeps them
// in step): 22.13 is where node:sqlite no longer needs a flag.
export const NODE_NEEDED = '22.13';

export function nodeIsRecentEnough(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  const [needMajor, needMinor] = NODE_NEEDED.split('.').map(Number);
  return major > needMajor || (major === needMajor && minor >= needMinor);
}
