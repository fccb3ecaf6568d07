/**
 * City reporting (issue 15): protected releases of a city's solidarity economy for its analysts
 * (CITY_ANALYST of that city; ADMIN), and the treasurer's profile reports.
 */
import './types.js';
import './queries.js';
import './mutations.js';
