// Secrets of the test deployment, shared by vitest.config.ts and the tests.
export const TEST_SECRETS = {
  JOB_ID_SECRET: "test-job-id-secret-0123456789abcdef01234567",
  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789ab",
  API_TOKENS: "alice=alice-token-0123456789abcdef,bob=bob-token-0123456789abcdef",
};
export const ALICE = "alice-token-0123456789abcdef";
export const BOB = "bob-token-0123456789abcdef";
