// The CPU floor the pipeline is compared with: read stdin, split it into lines with split2 and
// JSON.parse each, nothing else. Prints the number of rows parsed.
import split2 from 'split2';

let rows = 0;
process.stdin
  .pipe(split2(JSON.parse))
  .on('data', () => (rows += 1))
  .on('end', () => process.stdout.write(`${rows}\n`));
