"""Choosing the activation layout: --data-format NHWC|NCHW|auto.

- GPU: NCHW. cuDNN's convolution and pooling kernels take channels-first tensors natively, and
  TensorFlow's GPU layout optimizer otherwise wraps NHWC convolutions in transposes (fp32) or picks
  NHWC tensor-core kernels only for fp16 on recent GPUs; NCHW is what tf_cnn_benchmarks and NVIDIA's
  published TensorFlow ResNet-50 figures use, so 'auto' picks it to make numbers comparable.
- CPU: NHWC. TensorFlow 2.21's own CPU kernels have no NCHW Conv2D / MaxPool (running them fails
  with UnimplementedError / InvalidArgumentError), so 'auto' picks NHWC and an explicit NCHW on the
  CPU is refused before anything is built. (With oneDNN enabled, TensorFlow's default on x86 CPUs,
  oneDNN's kernels do accept NCHW, so whether it would run depends on the build, the CPU and
  TF_ENABLE_ONEDNN_OPTS; refusing keeps results and command lines portable, and oneDNN reorders to
  its own blocked layout internally anyway.)

The layout changes no variable: the network's weights have the same names and shapes either way.
"""

DATA_FORMAT_CHOICES = ('NHWC', 'NCHW', 'auto')
_AUTO = {'gpu': 'NCHW', 'cpu': 'NHWC'}


def resolve_data_format(requested, device):
    """The layout to build with.

    Args:
      requested: 'NHWC', 'NCHW' or 'auto'.
      device: the resolved device, 'gpu' or 'cpu'.

    Returns:
      'NHWC' or 'NCHW'.

    Raises:
      ValueError: for an unknown layout or device, or NCHW on the CPU.
    """
    if requested not in DATA_FORMAT_CHOICES:
        raise ValueError(f'data format must be one of {", ".join(DATA_FORMAT_CHOICES)}, got {requested!r}')
    if device not in _AUTO:
        raise ValueError(f"device must be resolved to 'gpu' or 'cpu' first, got {device!r}")
    if requested == 'auto':
        return _AUTO[device]
    if requested == 'NCHW' and device == 'cpu':
        raise ValueError(
            "data format 'NCHW' is not available on the CPU (TensorFlow's own CPU "
            "convolution and max-pooling kernels are NHWC only); use NHWC or auto"
        )
    return requested
