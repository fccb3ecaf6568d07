/** The auth domain's types: who is asking (viewer), role grants and API tokens. */
import './grants.js';
import './viewer.js';
import './tokens.js';
