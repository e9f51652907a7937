"""Synthetic notices for demos, load tests and the heartbeat alert.

:func:`synthetic_voevent` writes a small GCN-style Fermi GBM flight-position
VOEvent (packet type 111) whose IVORN, trigger id and time depend on ``number``,
so every number gives a distinct alert with a distinct key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["synthetic_voevent"]

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic_voevent(number: int, *, role: str = "test", ra: float = 120.0,
                      dec: float = -30.0, error_deg: float = 5.0,
                      when: datetime | None = None) -> bytes:
    """A VOEvent 2.0 notice numbered ``number``; its trigger time is ``when``
    (UTC) or else 10 s after the previous number's."""
    when = when or _EPOCH + timedelta(seconds=10 * number)
    iso = when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-4]
    trigger = 900000000 + number
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<voe:VOEvent ivorn="ivo://gwdag/synthetic#GBM_Flt_Pos_{iso}_{trigger}" role="{role}"
  version="2.0" xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0">
  <Who><AuthorIVORN>ivo://gwdag/synthetic</AuthorIVORN><Date>{iso}</Date></Who>
  <What>
    <Param name="Packet_Type" value="111" />
    <Param name="TrigID" value="{trigger}" />
    <Param name="Most_Likely_Index" value="4" />
    <Param name="Most_Likely_Prob" value="95" />
  </What>
  <WhereWhen><ObsDataLocation><ObservationLocation><AstroCoords>
    <Time><TimeInstant><ISOTime>{iso}Z</ISOTime></TimeInstant></Time>
    <Position2D><Value2><C1>{ra:.4f}</C1><C2>{dec:.4f}</C2></Value2>
      <Error2Radius>{error_deg:.4f}</Error2Radius></Position2D>
  </AstroCoords></ObservationLocation></ObsDataLocation></WhereWhen>
</voe:VOEvent>
""".encode()
