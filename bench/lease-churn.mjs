// Appends lease rows to a kea4 file at a steady rate until killed (bench: churn while loaded).
import { appendFileSync } from 'node:fs';

const [file, perSecond = '100'] = process.argv.slice(2);
let i = 0;
setInterval(() => {
  const now = Math.floor(Date.now() / 1000);
  const n = i++ % 5000;
  const addr = `10.200.${n >> 8}.${n & 255}`;
  appendFileSync(file, `${addr},02:00:00:00:00:01,,3600,${now + 3600},1,0,0,churn${n},0,\n`);
}, 1000 / Number(perSecond));
