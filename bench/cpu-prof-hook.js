/**
 * Preloaded into a server process by `bench/pipeline-profile.ts` (NODE_OPTIONS=--require …): SIGUSR2
 * starts the V8 CPU profiler, the next SIGUSR2 stops it and writes `$CPU_PROF_DIR/<n>.cpuprofile`, so a
 * profile covers one measured load window and not the process's boot.
 */
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync, renameSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params || {}, (err, res) => (err ? reject(err) : resolve(res))),
    );
  let running = false;
  let seq = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      void post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: 200 }))
        .then(() => post('Profiler.start'));
      return;
    }
    running = false;
    void post('Profiler.stop').then(({ profile }) => {
      const file = join(dir, `${++seq}.cpuprofile`);
      writeFileSync(`${file}.tmp`, JSON.stringify(profile));
      renameSync(`${file}.tmp`, file);
    });
  });
}
