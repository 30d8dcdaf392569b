import { main } from '../../cli/main.js';

// runs `axon <args>` from source, for tests that need the server in a child process they can SIGKILL
process.exitCode = await main(process.argv.slice(2));
