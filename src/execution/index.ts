export * from './sizer.js';
export * from './kill-switch.js';
export * from './cooldown.js';
export * from './order-states.js';
export * from './escalation.js';
