#!/usr/bin/env node
// `npm test`: runs the three test projects one after the other (unit in Node, gpu on Dawn +
// SwiftShader, e2e in headless Chromium) and prints how many tests each executed.
// Extra arguments go to vitest (e.g. `npm test -- --project gpu`, or a file filter).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

const PROJECTS = ['unit', 'gpu', 'e2e'];
const args = process.argv.slice(2);
const chosen = args.includes('--project') ? [args[args.indexOf('--project') + 1]] : PROJECTS;
const passThrough = args.filter((arg, i) => arg !== '--project' && args[i - 1] !== '--project');

// The gpu and e2e suites run on Debian's Chromium (its SwiftShader) through the Vulkan loader:
// without them, say so once instead of failing hundreds of tests.
const missing = [existsSync('/usr/bin/chromium') ? '' : 'chromium', hasVulkanLoader() ? '' : 'libvulkan1'].filter(Boolean);
if (chosen.some((project) => project !== 'unit') && missing.length > 0) {
  console.error(`npm test needs ${missing.join(' and ')}: apt-get update && apt-get install -y chromium libvulkan1 (or run: npm test -- --project unit)`);
  process.exit(1);
}

function hasVulkanLoader() {
  const found = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  return found.status === 0 ? /libvulkan\.so\.1/.test(found.stdout) : ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].some((dir) => existsSync(`${dir}/libvulkan.so.1`));
}

mkdirSync('.tmp', { recursive: true });
const summary = [];
for (const project of chosen) {
  const report = `.tmp/test-${project}.json`;
  const run = spawnSync('npx', ['vitest', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...passThrough], { stdio: 'inherit' });
  let counts = { numTotalTests: 0, numPassedTests: 0, numFailedTests: 0, numPendingTests: 0 };
  try {
    counts = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    // vitest died before writing its report; the exit status below says so.
  }
  summary.push({ project, status: run.status, ...counts });
}

console.log('\nTest summary');
for (const { project, status, numTotalTests, numPassedTests, numFailedTests, numPendingTests } of summary) {
  console.log(`  ${project.padEnd(5)} ${String(numPassedTests).padStart(4)} passed, ${numFailedTests} failed, ${numPendingTests} skipped, ${numTotalTests} total${status === 0 ? '' : '  <- FAILED'}`);
}
process.exit(summary.every((s) => s.status === 0 && s.numTotalTests > 0) ? 0 : 1);
