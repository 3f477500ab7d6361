export * from './tenancy';
export * from './organizations';
export * from './users';
export * from './api-keys';
export * from './audit-log';
export * from './webhooks';
export * from './notifications';
