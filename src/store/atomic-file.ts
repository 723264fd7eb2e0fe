/**
 * The small files beside the store (server.pid, last-commit) are replaced whole: a temporary file
 * renamed over the old one, so that a failed write (a full disk) leaves the previous file or none,
 * never an empty or partial one, and the refusal names the file that could not be written.
 */
import fs from 'node:fs';
import { StoreOpenError } from '../errors.js';

export function writeFileAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new StoreOpenError('PI_ERR_STORE_OPEN_UNWRITABLE', file, `${file} cannot be written (${reason})`, { cause: error });
  }
}
