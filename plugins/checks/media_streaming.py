from winportlint.checks import ExposureCheck
from winportlint.model import Severity

CHECK = ExposureCheck(
    id="WPL201",
    name="media-streaming-open-to-world",
    summary="Cast to Device, DIAL or Media Foundation streaming ports are open to the whole internet",
    severity=Severity.HIGH,
    exposure_class="media-streaming",
    explanation=(
        "Windows opens these for media casting on a local network (qWave 2177, UPnP 2869, HTTP streaming "
        "10246, DIAL 10247, RTSP 554/8554-8558/23554-23556, RTP 5000-5020). A server has no use for them on "
        "the internet. Teams that accept this noise can ignore this check and keep the critical ones."
    ),
)
