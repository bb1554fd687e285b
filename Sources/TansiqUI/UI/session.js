// Who is signed in, as the controller says (GET /v1/whoami).
export const session = { subject: null, role: null, ministry: null };

export function remember(whoami) {
  session.subject = whoami?.subject ?? null;
  session.role = whoami?.role ?? null;
  session.ministry = whoami?.ministry ?? null;
}
