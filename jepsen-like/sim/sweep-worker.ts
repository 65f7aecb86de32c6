// A sweep child: runs the seeds its parent sends, one at a time, and answers with summaries.
import { runSim, type SimOptions } from './run.js';
import type { SeedSummary } from './sweep.js';

type Message = { type: 'run'; options: SimOptions } | { type: 'exit' };

process.on('message', (message: Message) => {
  if (message.type === 'exit') {
    process.disconnect();
    return;
  }
  void runSim(message.options).then((report) => {
    const { faults, counters, ...rest } = report;
    void counters;
    const summary: SeedSummary = { ...rest, faultCount: faults.length };
    process.send!(summary);
  });
});
process.send!({ type: 'ready' });
