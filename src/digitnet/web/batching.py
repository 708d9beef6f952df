"""Running the network for the requests of the moment: batched, and rearranged for serving."""

import asyncio
import io

import numpy as np


class Batcher:
    """Run the network once for all the images whose requests arrived together.

    A request's handler queues its 28x28 input and waits for its calibrated
    probabilities; the first one queued asks the
    event loop to run the network on the next turn, by which time every request that
    was ready on this turn has queued its own. Under load, one product of a batch of
    images costs much less than one per image (the four-CNN ensemble: 1.5 ms for one,
    0.9 ms each for eight), and an idle server still answers at once.
    """

    def __init__(self, model, calibration=None):
        self.model = model
        self.calibrate = calibration.digits if calibration else (lambda p: p)
        self.queue = []

    async def confidences(self, x):
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self.queue.append((x, answer))
        if len(self.queue) == 1:
            loop.call_soon(self._run)
        return await answer

    def _run(self):
        queue, self.queue = self.queue, []
        try:
            probabilities = self.calibrate(self.model.confidences(np.stack([x for x, _ in queue])))
        except Exception as e:  # every waiting request gets the error, none is lost
            for _, answer in queue:
                if not answer.done():
                    answer.set_exception(e)
            return
        for (_, answer), p in zip(queue, probabilities):
            if not answer.done():  # its client may have gone
                answer.set_result(p)


#: Images with more pixels than this are preprocessed off the event loop (the page's
#: 280x280 canvas, and most scans of one digit, stay on it: a thread hop costs more).
INLINE_PIXELS = 1_000_000


def is_large(body):
    """Whether the image in ``body`` has more than INLINE_PIXELS pixels, from its header
    alone (an unreadable one is not: its error comes faster on the loop)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(body)) as image:
            return image.width * image.height > INLINE_PIXELS
    except Exception:  # any failure here is reported by to_mnist, with its message
        return False


def _for_inference(model, shortcut=None):
    """The model rearranged for serving (``nn.network.for_inference``: batch
    normalisation folded, dropout left out, ReLU after pooling): same answers, less work.
    An ensemble gets the ``shortcut`` given (None: all its members on every input)."""
    from ..nn.ensemble import Ensemble
    from ..nn.network import for_inference

    fast = for_inference(model)
    members = getattr(fast, "members", None)
    return Ensemble(members, shortcut=shortcut) if members else fast
