/**
 * A small tmpfs of its own for tests of a full disk on real files: mounting needs root (with
 * CAP_SYS_ADMIN), so where it is not allowed the test is skipped with the reason.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** Mounts a tmpfs of `kibibytes`, unmounted when the test ends; undefined (test skipped) where mounting is not allowed. */
export function mountSmallTmpfs(t: TestContext, kibibytes: number): string | undefined {
  const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'pi-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kibibytes}k,mode=0755`, 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (error) {
    fs.rmdirSync(mountPoint);
    const reason = (error as { stderr?: Buffer }).stderr?.toString().trim() || String(error);
    t.skip(`a full disk needs a small tmpfs, and mounting one is not allowed here (it needs root with CAP_SYS_ADMIN): ${reason}`);
    return undefined;
  }
  // lazy: the test's own after-hooks (a server still holding files open) may run after this one
  t.after(() => {
    execFileSync('umount', ['--lazy', mountPoint]);
    fs.rmdirSync(mountPoint);
  });
  return mountPoint;
}

/**
 * Writes a file until the filesystem is full, in ever smaller pieces down to a byte, so that not
 * even a small write fits; removing the file frees the space again.
 */
export function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (const size of [65_536, 4_096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x66);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
