/** `npm run sandbox`: the emulator host on its own (npm start already runs it in sandbox mode). */
import { loadConfig } from '../config';
import { startSandbox } from './server';

const config = loadConfig();
const sandbox = await startSandbox({ port: config.sandbox.port });
console.log(`P11 sandbox emulators on ${sandbox.url}`);
const stop = async () => {
  await sandbox.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
