import fc from 'fast-check';

// Property tests run the same cases on every run (CI must not pass or fail by luck): a fixed seed by
// default; AXON_FC_SEED=<n> picks another, AXON_FC_SEED=random a new one per run (to explore; a failure
// prints its seed for replay)
const seed = process.env.AXON_FC_SEED;
if (seed !== 'random') {
  const n = seed === undefined ? 20261122 : Number(seed);
  if (!Number.isSafeInteger(n)) throw new Error(`AXON_FC_SEED must be an integer or "random", got ${JSON.stringify(seed)}`);
  fc.configureGlobal({ seed: n });
}
