/** Who sees the complaint dashboards: the roles of the summary's role-actions (seed/mdms/dashboard). */
export const DASHBOARD_ROLES = ['PGR-ADMIN', 'GRO', 'DGRO', 'SUPERUSER', 'STADMIN'] as const;
