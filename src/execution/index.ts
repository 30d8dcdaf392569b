export * from './sizer.js';
export * from './kill-switch.js';
export * from './cooldown.js';
