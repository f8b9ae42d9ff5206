// A tenant's id is its site file's name, and later a part of its callback URLs (/wecom/<tenant>/app) and of its Redis
// keys ({t:<tenant>}), so it is kept to what is safe in all three, and short.
export const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
export const tenantIdRule = 'use lowercase letters, digits and "-" (at most 40, starting with a letter or digit)';
